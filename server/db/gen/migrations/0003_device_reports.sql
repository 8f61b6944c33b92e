ALTER TABLE "devices" ADD COLUMN "reported_slot" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_outcome" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_outcome_reason" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_report_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "devices_outcome" ON "devices" USING btree ("last_outcome");