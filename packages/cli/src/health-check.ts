/**
 * `agentmesh health <host:port>`: one grpc.health.v1 Check against an agent's
 * native gRPC port, exit 0 when SERVING; the container healthcheck, with no grpcurl in the image.
 */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** Asks a server's health service for a service's status ("" is the whole server). */
export function checkHealth(address: string, service = '', timeoutMs = 2000): Promise<string> {
  const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(request: { service: string }, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { status: string | number }) => void): void;
  };
  return new Promise<string>((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(String(response?.status));
    });
  });
}
