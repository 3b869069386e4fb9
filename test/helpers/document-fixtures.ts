// The document builders live with the tools (the dev sample documents and the benchmarks use them).
export * from '../../tools/documents/fixtures.ts';
