export interface MissingPiece {
  what: string;
  debianPackage: string;
}
export function missingCToolchain(): MissingPiece[];
export function describeMissing(missing: MissingPiece[]): string;
