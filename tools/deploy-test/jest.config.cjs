module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'deploy-test',
  rootDir: __dirname,
  // The first run builds the base image (debootstrap, ~1-2 min); every step is bounded anyway.
  testTimeout: 60_000,
};
