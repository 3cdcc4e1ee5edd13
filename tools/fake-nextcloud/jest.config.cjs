module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'fake-nextcloud',
  rootDir: __dirname,
};
