/**
 * Certificate policy processing of RFC 5280 §6.1: the valid_policy_tree with explicit_policy,
 * inhibit_anyPolicy and policy_mapping, for the initial inputs Sidian uses (§6.1.1 (c), (e)-(g)):
 * user-initial-policy-set = {anyPolicy}, initial-policy-mapping-inhibit, initial-explicit-policy and
 * initial-any-policy-inhibit all false. Policy qualifiers are not kept.
 */
import type { CertificateInfo } from './certificate';
import { parseDer, readInteger, readOid } from './der';
import { X509 } from './x509-ext';

export const ANY_POLICY = '2.5.29.32.0';

interface PolicyNode {
  validPolicy: string;
  expectedPolicySet: Set<string>;
  parent: PolicyNode | undefined;
  children: PolicyNode[];
}

/** The policy state variables of §6.1.2 (a), (d)-(f). */
export interface PolicyState {
  /** (a) valid_policy_tree by depth; undefined is the RFC's NULL tree. */
  tree: PolicyNode[][] | undefined;
  /** (d) explicit_policy */
  explicitPolicy: number;
  /** (e) inhibit_anyPolicy */
  inhibitAnyPolicy: number;
  /** (f) policy_mapping */
  policyMapping: number;
}

/** Thrown with the clause that failed; path.ts turns it into a PathFailure. */
export class PolicyError extends Error {}

/** §6.1.2: the initial policy state for a path of n certificates. */
export function initialPolicyState(n: number): PolicyState {
  const root: PolicyNode = {
    validPolicy: ANY_POLICY,
    expectedPolicySet: new Set([ANY_POLICY]),
    parent: undefined,
    children: [],
  };
  return { tree: [[root]], explicitPolicy: n + 1, inhibitAnyPolicy: n + 1, policyMapping: n + 1 };
}

function extension(cert: CertificateInfo, oid: string) {
  const e = cert.extensions.get(oid);
  return e ? parseDer(e.value, { maxDepth: 16, maxNodes: 10_000 }) : undefined;
}

/** §6.1.3 (d)-(f) for certificate i of n. */
export function processPolicies(
  cert: CertificateInfo,
  i: number,
  n: number,
  selfIssued: boolean,
  s: PolicyState,
): void {
  const policiesNode = extension(cert, X509.certificatePolicies);
  if (policiesNode && s.tree) {
    const policies = policiesNode.children.map((p) => readOid(p.child(0)));
    const parents = s.tree[i - 1] ?? [];
    const level: PolicyNode[] = [];
    const addChild = (parent: PolicyNode, policy: string) => {
      const node: PolicyNode = {
        validPolicy: policy,
        expectedPolicySet: new Set([policy]),
        parent,
        children: [],
      };
      parent.children.push(node);
      level.push(node);
    };
    // (d)(1) each policy other than anyPolicy
    for (const p of policies) {
      if (p === ANY_POLICY) continue;
      const matching = parents.filter((node) => node.expectedPolicySet.has(p));
      if (matching.length) for (const node of matching) addChild(node, p);
      else {
        const any = parents.find((node) => node.validPolicy === ANY_POLICY);
        if (any) addChild(any, p);
      }
    }
    // (d)(2) anyPolicy in the certificate
    if (policies.includes(ANY_POLICY) && (s.inhibitAnyPolicy > 0 || (i < n && selfIssued))) {
      for (const node of parents) {
        for (const expected of node.expectedPolicySet) {
          if (!node.children.some((c) => c.validPolicy === expected)) addChild(node, expected);
        }
      }
    }
    s.tree[i] = level;
    // (d)(3) prune nodes above depth i without children
    prune(s, i - 1);
  } else {
    // (e) no certificate policies: the tree becomes NULL
    s.tree = undefined;
  }
  // (f)
  if (s.explicitPolicy <= 0 && !s.tree) {
    throw new PolicyError(
      'no certificate policy is valid for the path while an explicit policy is required (RFC 5280 §6.1.3 (f))',
    );
  }
}

/** Deletes childless nodes from depth `from` up to the root; a root without children leaves a NULL tree. */
function prune(s: PolicyState, from: number): void {
  if (!s.tree) return;
  for (let d = from; d >= 0; d--) {
    const level = s.tree[d] ?? [];
    const keep = level.filter((node) => node.children.length > 0);
    for (const node of level) {
      if (node.children.length === 0 && node.parent)
        node.parent.children = node.parent.children.filter((c) => c !== node);
    }
    s.tree[d] = keep;
  }
  if ((s.tree[0] ?? []).length === 0) s.tree = undefined;
}

/** §6.1.4 (a)-(b), (h)-(j) for certificate i (a CA) of n. */
export function preparePolicies(cert: CertificateInfo, i: number, selfIssued: boolean, s: PolicyState): void {
  const mappingsNode = extension(cert, X509.policyMappings);
  if (mappingsNode) {
    const mappings = mappingsNode.children.map((m) => ({
      issuer: readOid(m.child(0)),
      subject: readOid(m.child(1)),
    }));
    // (a) anyPolicy may not be mapped
    if (mappings.some((m) => m.issuer === ANY_POLICY || m.subject === ANY_POLICY)) {
      throw new PolicyError('a policy mapping maps to or from anyPolicy (RFC 5280 §6.1.4 (a))');
    }
    // (b) apply or delete the mappings
    const byIssuer = new Map<string, Set<string>>();
    for (const m of mappings) {
      if (!byIssuer.has(m.issuer)) byIssuer.set(m.issuer, new Set());
      byIssuer.get(m.issuer)!.add(m.subject);
    }
    for (const [issuerPolicy, subjects] of byIssuer) {
      if (!s.tree) break;
      const level = s.tree[i] ?? [];
      const nodes = level.filter((node) => node.validPolicy === issuerPolicy);
      if (s.policyMapping > 0) {
        if (nodes.length) for (const node of nodes) node.expectedPolicySet = new Set(subjects);
        else {
          const any = level.find((node) => node.validPolicy === ANY_POLICY);
          if (any?.parent) {
            const node: PolicyNode = {
              validPolicy: issuerPolicy,
              expectedPolicySet: new Set(subjects),
              parent: any.parent,
              children: [],
            };
            any.parent.children.push(node);
            level.push(node);
          }
        }
      } else {
        for (const node of nodes) {
          if (node.parent) node.parent.children = node.parent.children.filter((c) => c !== node);
        }
        s.tree[i] = level.filter((node) => !nodes.includes(node));
        prune(s, i - 1);
      }
    }
  }
  // (h) count down, except for self-issued certificates
  if (!selfIssued) {
    if (s.explicitPolicy > 0) s.explicitPolicy--;
    if (s.policyMapping > 0) s.policyMapping--;
    if (s.inhibitAnyPolicy > 0) s.inhibitAnyPolicy--;
  }
  // (i) policyConstraints
  const constraints = extension(cert, X509.policyConstraints);
  for (const c of constraints?.children ?? []) {
    const v = Number(readInteger(parseDer(Uint8Array.of(0x02, c.content.length, ...c.content))));
    if (c.isContext(0) && v < s.explicitPolicy) s.explicitPolicy = v;
    if (c.isContext(1) && v < s.policyMapping) s.policyMapping = v;
  }
  // (j) inhibitAnyPolicy
  const inhibit = extension(cert, X509.inhibitAnyPolicy);
  if (inhibit) {
    const v = Number(readInteger(inhibit));
    if (v < s.inhibitAnyPolicy) s.inhibitAnyPolicy = v;
  }
}

/** §6.1.5 (a)-(b), (g): the policy outcome for the target certificate. */
export function wrapUpPolicies(cert: CertificateInfo, s: PolicyState): void {
  if (s.explicitPolicy > 0) s.explicitPolicy--;
  const constraints = extension(cert, X509.policyConstraints);
  for (const c of constraints?.children ?? []) {
    if (c.isContext(0) && c.content.every((b) => b === 0)) s.explicitPolicy = 0;
  }
  // (g) with user-initial-policy-set {anyPolicy} the tree is left as it is
  if (s.explicitPolicy <= 0 && !s.tree) {
    throw new PolicyError(
      'the path has no valid certificate policy while an explicit policy is required (RFC 5280 §6.1.5 (g))',
    );
  }
}
