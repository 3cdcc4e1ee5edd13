import './two-nodes';
import './newer-features.int.spec';
