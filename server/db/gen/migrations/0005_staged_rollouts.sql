CREATE TABLE "rollout_devices" (
	"version_id" integer NOT NULL,
	"device_id" integer NOT NULL,
	"outcome" text,
	"reported_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_devices_version_id_device_id_pk" PRIMARY KEY("version_id","device_id")
);
--> statement-breakpoint
CREATE TABLE "rollouts" (
	"version_id" integer PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"percent" integer NOT NULL,
	"device_group" text,
	"max_failure_share" double precision NOT NULL,
	"min_reports" integer NOT NULL,
	"paused_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "device_group" text;--> statement-breakpoint
ALTER TABLE "rollout_devices" ADD CONSTRAINT "rollout_devices_version_id_rollouts_version_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."rollouts"("version_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_devices" ADD CONSTRAINT "rollout_devices_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollouts" ADD CONSTRAINT "rollouts_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rollout_devices_device" ON "rollout_devices" USING btree ("device_id");