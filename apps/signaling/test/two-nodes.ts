// Imported first by a `*.clustered.int.spec.ts`: the spec imported after it runs on two nodes
// (startTestSetup in test-server.ts reads this; jest gives every spec file its own process.env).
process.env['TALK_TEST_NODES'] = '2';
