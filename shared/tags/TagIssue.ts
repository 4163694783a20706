/**
 * Something the tag engine could not use, had to change or finds doubtful, reported instead of thrown.
 * `warning`: a tag or IP was produced in a changed form (shortened tag, IPv4-mapped IP), tags were
 * cut to an IP's budget, one Service tag stands for Services of several namespaces, or a selector
 * matches no Service.
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
  /** The name of the configured selector concerned. */
  selector?: string;
  /**
   * `over-budget`: the IP's tags were cut to its budget (one issue per IP; see `TagCut`);
   * `shared-service-tag`: one Service tag stands for Services of several namespaces;
   * `unmatched-selector`: a configured selector matched none of the cluster's Services.
   */
  kind?: 'over-budget' | 'shared-service-tag' | 'unmatched-selector';
  message: string;
}
