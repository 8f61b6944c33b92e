// The synthetic model lives in test/fixtures/synthetic-model.ts, which the
// tests and the benches import. This path stays for firmware/test/
// make-fixtures.ts, which imports it from here.
export * from '../../test/fixtures/synthetic-model.ts';
