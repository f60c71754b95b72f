// Types for stack/manifest.mjs (the tests' setup imports it).
export interface ManifestService {
  name: string;
  entry: string;
  port: number;
  portVar: string;
  hostVar: string;
  second?: number;
  shadow?: { name: string; port: number };
}
export interface Manifest {
  kafka: { version: string; image: string; port: number; controllerPort: number; internalPort: number };
  registry: { port: number; image: string; containerPort: number; path: string };
  redis: { image: string; port: number; containerPort: number; args: string[] };
  services: ManifestService[];
}
export const manifest: Manifest;
export function kafkaContainerEnv(m?: Manifest): Record<string, string>;
export function composeDocument(m?: Manifest): {
  services: Record<string, unknown>;
  volumes: Record<string, unknown>;
};
export function composeYaml(m?: Manifest): Promise<string>;
