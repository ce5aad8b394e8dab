// Default values, in one place so the published schema's `default`s and the resolver cannot disagree.

/** Defaults as a user would write them (durations as strings). */
export const CONFIG_DEFAULTS = {
  machines: 'auto',
  apiPort: 8500,
  dnsPort: 8600,
  httpPort: 8080,
  httpsPort: 8443,
  frontDoorWorkers: 'auto',
  balancer: 'least-conn',
  drainTimeout: '30s',
  datacenter: 'dc1',
  nodeName: 'machineroom',
  domain: 'consul',
  replicas: 1,
  restartPolicy: 'on-failure',
  restartBackoff: '1s',
  restartMaxBackoff: '30s',
  stopSignal: 'SIGTERM',
  stopGrace: '10s',
  healthInterval: '5s',
  healthTimeout: '2s',
  healthStartPeriod: '0s',
  healthSuccessThreshold: 1,
  healthFailureThreshold: 3,
  healthRestart: false,
  dependsOnCondition: 'started',
  /** The name `port: 8080` gets, for health.port and `$PORT_<NAME>`-style consumers. */
  portName: 'default',
} as const;
