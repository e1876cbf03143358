import type { BalancerConfig } from '../config/options.js';

/** Something in the Apache file that was not carried over, and why. */
export interface ApacheWarning {
  file: string;
  line: number;
  /** The directive as written (its name, e.g. "ProxyPassMatch"). */
  directive: string;
  message: string;
}

export interface ApacheImportOptions {
  /** Name of the file the text came from, used in warnings and errors. Default "httpd.conf". */
  file?: string;
  /** Folder that relative `Include` paths start from. Default: the folder of `file`, else the current one. */
  baseDir?: string;
  /** Throw on the first directive that is not carried over instead of warning. Default false. */
  strict?: boolean;
}

/** What a standalone server needs besides the balancer configuration. */
export interface ApacheServerSettings {
  /** The first `Listen` ("8080", "127.0.0.1:8080", "[::1]:8080"). */
  listen?: string;
  /** Where `SetHandler balancer-manager` mounted the manager. */
  manager?: string;
}

export interface ApacheImport {
  /** What `balancer()` takes. */
  config: BalancerConfig;
  warnings: ApacheWarning[];
  server: ApacheServerSettings;
}
