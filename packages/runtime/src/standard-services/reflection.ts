/**
 * gRPC server reflection, so grpcurl and Postman can list and call an agent's
 * methods without holding its .proto files. Fed by the agentmesh protos (and
 * the health proto) loaded with @grpc/proto-loader.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PROTO_ROOT } from '@agentmesh/protocol';
import type * as grpc from '@grpc/grpc-js';

/** Every .proto under a root, as paths relative to it (the form imports use). */
export function protoFiles(root: string = PROTO_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.proto')) found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

/** Options of addReflection. */
export interface ReflectionOptions {
  /** Where the .proto sources are (default the protocol package's PROTO_ROOT). */
  protoRoot?: string;
  /** Only these services are listed (fully qualified); all loaded ones when omitted. */
  services?: readonly string[];
}

/** Adds grpc.reflection.v1 and v1alpha to a grpc-js server (before it binds). */
export function addReflection(server: grpc.Server, options: ReflectionOptions = {}): ReflectionService {
  const root = options.protoRoot ?? PROTO_ROOT;
  const healthRoot = dirname(dirname(dirname(healthProtoPath)));
  const definition = protoLoader.loadSync([...protoFiles(root), relative(healthRoot, healthProtoPath)], {
    includeDirs: [root, healthRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const services = options.services ? [...options.services, 'grpc.health.v1.Health'] : undefined;
  const reflection = new ReflectionService(definition, services ? { services } : undefined);
  reflection.addToServer(server);
  return reflection;
}
