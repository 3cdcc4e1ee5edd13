import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

const ROOT = path.resolve(__dirname, '../../../..');
const PROTO_DIR = path.join(ROOT, 'proto');
const GENERATED_DIR = path.join(ROOT, 'libs/cluster/src/generated');

/**
 * The v2.1.1 cluster wire (fact sheet 6.2 + 6.5), one line per field and per method. Written
 * from the facts, not from our .proto files: a renamed or renumbered field fails here.
 */
const EXPECTED_WIRE = `
file backend.proto package grpc
file internal.proto package grpc
file sessions.proto package grpc
file sfu.proto package grpc
rpc /grpc.RpcBackend/GetSessionCount (grpc.GetSessionCountRequest) -> (grpc.GetSessionCountReply)
grpc.GetSessionCountRequest.url = 1 string
grpc.GetSessionCountReply.count = 1 uint32
rpc /grpc.RpcInternal/GetServerId (grpc.GetServerIdRequest) -> (grpc.GetServerIdReply)
rpc /grpc.RpcInternal/GetTransientData (grpc.GetTransientDataRequest) -> (grpc.GetTransientDataReply)
grpc.GetServerIdReply.serverId = 1 string
grpc.GetServerIdReply.version = 2 string
grpc.GetTransientDataRequest.roomId = 1 string
grpc.GetTransientDataRequest.backendUrls = 2 repeated string
grpc.GrpcTransientDataEntry.value = 1 bytes
grpc.GrpcTransientDataEntry.expires = 2 int64
grpc.GetTransientDataReply.entries = 1 map<string, grpc.GrpcTransientDataEntry>
rpc /grpc.RpcSessions/LookupResumeId (grpc.LookupResumeIdRequest) -> (grpc.LookupResumeIdReply)
rpc /grpc.RpcSessions/LookupSessionId (grpc.LookupSessionIdRequest) -> (grpc.LookupSessionIdReply)
rpc /grpc.RpcSessions/IsSessionInCall (grpc.IsSessionInCallRequest) -> (grpc.IsSessionInCallReply)
rpc /grpc.RpcSessions/GetInternalSessions (grpc.GetInternalSessionsRequest) -> (grpc.GetInternalSessionsReply)
rpc /grpc.RpcSessions/ProxySession (stream grpc.ClientSessionMessage) -> (stream grpc.ServerSessionMessage)
grpc.LookupResumeIdRequest.resumeId = 1 string
grpc.LookupResumeIdReply.sessionId = 1 string
grpc.LookupSessionIdRequest.roomSessionId = 1 string
grpc.LookupSessionIdRequest.disconnectReason = 2 string
grpc.LookupSessionIdReply.sessionId = 1 string
grpc.IsSessionInCallRequest.sessionId = 1 string
grpc.IsSessionInCallRequest.roomId = 2 string
grpc.IsSessionInCallRequest.backendUrl = 3 string
grpc.IsSessionInCallReply.inCall = 1 bool
grpc.GetInternalSessionsRequest.roomId = 1 string
grpc.GetInternalSessionsRequest.backendUrl = 2 string deprecated
grpc.GetInternalSessionsRequest.backendUrls = 3 repeated string
grpc.InternalSessionData.sessionId = 1 string
grpc.InternalSessionData.inCall = 2 uint32
grpc.InternalSessionData.features = 3 repeated string
grpc.VirtualSessionData.sessionId = 1 string
grpc.VirtualSessionData.inCall = 2 uint32
grpc.GetInternalSessionsReply.internalSessions = 1 repeated grpc.InternalSessionData
grpc.GetInternalSessionsReply.virtualSessions = 2 repeated grpc.VirtualSessionData
grpc.ClientSessionMessage.message = 1 bytes
grpc.ServerSessionMessage.message = 1 bytes
rpc /grpc.RpcMcu/GetPublisherId (grpc.GetPublisherIdRequest) -> (grpc.GetPublisherIdReply)
grpc.GetPublisherIdRequest.sessionId = 1 string
grpc.GetPublisherIdRequest.streamType = 2 string
grpc.GetPublisherIdReply.publisherId = 1 string
grpc.GetPublisherIdReply.proxyUrl = 2 string
grpc.GetPublisherIdReply.ip = 3 string
grpc.GetPublisherIdReply.connectToken = 4 string
grpc.GetPublisherIdReply.publisherToken = 5 string
`;

function protoFiles(): string[] {
  return readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto')).sort();
}

/** Compiles proto/ with protoc and describes every message field and method, one per line. */
function describeWire(): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'talk-proto-'));
  try {
    const out = path.join(dir, 'set.pb');
    execFileSync('protoc', [`--proto_path=${PROTO_DIR}`, `--descriptor_set_out=${out}`, ...protoFiles()]);
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    const lines: string[] = [];
    for (const file of set.file) lines.push(`file ${file.name} package ${file.package}`);
    for (const file of set.file) {
      const pkg = file.package;
      const maps = new Map<string, string>();
      for (const msg of file.messageType) {
        for (const nested of msg.nestedType) {
          if (nested.options?.mapEntry === true) {
            const [k, v] = nested.field;
            maps.set(`.${pkg}.${msg.name}.${nested.name}`, `map<${typeName(k!)}, ${typeName(v!)}>`);
          }
        }
      }
      for (const svc of file.service) {
        for (const m of svc.method) {
          const input = `${m.clientStreaming ? 'stream ' : ''}${m.inputType.slice(1)}`;
          const output = `${m.serverStreaming ? 'stream ' : ''}${m.outputType.slice(1)}`;
          lines.push(`rpc /${pkg}.${svc.name}/${m.name} (${input}) -> (${output})`);
        }
      }
      for (const msg of file.messageType) {
        for (const f of msg.field) {
          const map = maps.get(f.typeName);
          const type = map ?? `${f.label === FieldDescriptorProto_Label.REPEATED ? 'repeated ' : ''}${typeName(f)}`;
          lines.push(`${pkg}.${msg.name}.${f.name} = ${f.number} ${type}${f.options?.deprecated === true ? ' deprecated' : ''}`);
        }
      }
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function typeName(f: { type: FieldDescriptorProto_Type; typeName: string }): string {
  return f.type === FieldDescriptorProto_Type.MESSAGE ? f.typeName.slice(1) : FieldDescriptorProto_Type[f.type]!.toLowerCase();
}

describe('proto/ (cluster wire of upstream v2.1.1)', () => {
  it('declares exactly the v2.1.1 services, messages, field names, numbers and types', () => {
    const expected = EXPECTED_WIRE.trim().split('\n');
    expect(describeWire().sort()).toEqual([...expected].sort());
  });

  it('the committed ts-proto output is what the generator produces (run `nx run cluster:generate` after editing proto/)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'talk-ts-proto-'));
    try {
      execFileSync('node', [path.join(ROOT, 'libs/cluster/scripts/generate-proto.mjs'), dir], { stdio: 'pipe' });
      const fresh = readdirSync(dir).sort();
      const committed = readdirSync(GENERATED_DIR).filter((f) => f.endsWith('.ts')).sort();
      expect(committed).toEqual(fresh);
      for (const file of fresh) {
        expect({ file, text: readFileSync(path.join(GENERATED_DIR, file), 'utf8') }).toEqual({
          file,
          text: readFileSync(path.join(dir, file), 'utf8'),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
