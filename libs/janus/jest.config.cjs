module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'janus',
  rootDir: __dirname,
};
