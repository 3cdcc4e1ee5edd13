// federation.int.spec.ts again with both servers two-node clusters (each its own nats-server, gRPC
// between its nodes): federated joins reach B's first node while B's clients are on its second;
// A's clients alternate over A's nodes.
import './two-nodes';
import './federation.int.spec';
