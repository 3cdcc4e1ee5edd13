module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'mcu-proxy',
  rootDir: __dirname,
};
