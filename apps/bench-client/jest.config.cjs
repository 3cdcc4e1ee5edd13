module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'bench-client',
  rootDir: __dirname,
};
