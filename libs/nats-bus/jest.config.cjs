module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'nats-bus',
  rootDir: __dirname,
};
