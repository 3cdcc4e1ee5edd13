// permissions.int.spec.ts again, its clients split over two nodes sharing one nats-server (and gRPC).
import './two-nodes';
import './permissions.int.spec';
