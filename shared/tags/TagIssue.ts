/**
 * Something the tag engine could not use or had to change, reported instead of thrown.
 * `warning`: a tag or IP was produced in a changed form (shortened tag, IPv4-mapped IP).
 * `error`: something was not produced (hostile label, invalid IP, Service without a name …).
 * `message` is one line that names the Service, the cluster and the label or IP concerned; hostile
 * text in it is JSON-quoted, so it is safe to print or log.
 */
export interface TagIssue {
  severity: 'warning' | 'error';
  cluster: string;
  /** `namespace/name` of the Service concerned. */
  service?: string;
  /** The label key concerned. */
  label?: string;
  /** The IP concerned, as found in the Service. */
  ip?: string;
  message: string;
}
