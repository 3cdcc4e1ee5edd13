module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'e2e',
  rootDir: __dirname,
  // One browser run is bounded to 60 s by the runner itself; leave room for its teardown.
  testTimeout: 90_000,
};
