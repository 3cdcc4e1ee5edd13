module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'signaling',
  rootDir: __dirname,
};
