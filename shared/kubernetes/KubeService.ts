import type { ClusterConfig } from '../config/loadConfig.js';

/**
 * The parts of a Kubernetes `v1.Service` the tag engine reads. Plain JSON as `kubectl get svc -o json`
 * prints it or as the API returns it; every field is optional because input may be hostile.
 */
export interface KubeService {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec?: {
    type?: string;
    clusterIP?: string;
    loadBalancerIP?: string;
  };
  status?: {
    loadBalancer?: {
      ingress?: { ip?: string; hostname?: string }[];
    };
  };
}

/** A Kubernetes `v1.ServiceList`. */
export interface KubeServiceList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: KubeService[];
}

/** Reads the Services of one cluster (the Kubernetes API, a file, a simulator). */
export interface ServiceSource {
  /** Lists every Service in all namespaces of `cluster`, following pagination to the end. */
  listServices(cluster: ClusterConfig): Promise<KubeService[]>;
}
