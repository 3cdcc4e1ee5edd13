// rooms.int.spec.ts again, its clients split over two nodes sharing one nats-server.
process.env['TALK_TEST_NODES'] = '2';
require('./rooms.int.spec');
