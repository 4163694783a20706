/** The change of one IP's tags: tags to register and tags to unregister (disjoint, sorted). */
export interface TagDelta {
  ip: string;
  register: string[];
  unregister: string[];
}
