/**
 * An endpoint's where-to fields as the API takes them: `url` for an http endpoint, or `type`, `target` and
 * `role_arn` for an AWS destination (core/destination.ts), checked against the platform's rules on create and on
 * PATCH; and what a customer is shown to grant the role (its external id and the policies to paste).
 */
import {
  customerPolicies,
  newExternalId,
  parseTarget,
  roleArnProblem,
  sizeProblem,
  type Destination,
  type DestinationRules,
  type EndpointType,
} from "../core/destination.ts";
import { problems } from "../core/errors.ts";
import type { Endpoint } from "../core/tenant.ts";

/** AWS destinations as this platform takes them; absent when its operator has not set them up. */
export interface AwsDestinationRules extends DestinationRules {
  /** The worker's role, which a customer's trust policy names (DESTINATION_PRINCIPAL_ARN). */
  readonly principalArn: string;
  /** The largest payload the platform accepts: every one must fit in the service's message. */
  readonly maxPayloadBytes: number;
}

interface TargetFields {
  readonly type?: EndpointType | undefined;
  readonly url?: string | undefined;
  readonly target?: string | undefined;
  readonly role_arn?: string | undefined;
}

type Issue = { path: string; message: string };

/** The problems of a new endpoint's where-to fields, at their paths (none: it is well-formed). */
export function targetIssues(v: TargetFields, aws: AwsDestinationRules | undefined): Issue[] {
  const type = v.type ?? "http";
  if (type === "http") {
    const issues: Issue[] = v.url === undefined ? [{ path: "url", message: "required for an http endpoint" }] : [];
    for (const f of ["target", "role_arn"] as const)
      if (v[f] !== undefined) issues.push({ path: f, message: "only for AWS destinations (type aws_…)" });
    return issues;
  }
  if (v.url !== undefined) return [{ path: "url", message: "not for an AWS destination: its target says where" }];
  if (!aws)
    return [
      {
        path: "type",
        message: "AWS destinations are not set up on this platform (its operator sets DESTINATION_PRINCIPAL_ARN)",
      },
    ];
  const issues: Issue[] = [];
  const target = v.target === undefined ? "required for an AWS destination" : parseTarget(type, v.target, aws);
  if (typeof target === "string") issues.push({ path: "target", message: target });
  const role = v.role_arn === undefined ? "required for an AWS destination" : roleArnProblem(v.role_arn, aws);
  if (role) issues.push({ path: "role_arn", message: role });
  const size = sizeProblem(type, aws.maxPayloadBytes);
  if (size) issues.push({ path: "type", message: size });
  return issues;
}

/** The destination of a new endpoint whose fields `targetIssues` passed (undefined for http). */
export function newDestination(v: TargetFields): Destination | undefined {
  if (v.type === undefined || v.type === "http") return undefined;
  return { type: v.type, target: v.target!, roleArn: v.role_arn!, externalId: newExternalId() };
}

/**
 * A PATCH's where-to fields against the endpoint as stored: its type stays (a new one is a new endpoint, with a new
 * external id); an AWS destination's target and role may change, its external id stays. A 422 when they do not fit.
 */
export function patchedDestination(
  e: Endpoint,
  patch: TargetFields,
  aws: AwsDestinationRules | undefined,
): Destination | undefined {
  const type = e.destination?.type ?? "http";
  if (patch.type !== undefined && patch.type !== type)
    throw problems.invalid([{ path: "type", message: `stays ${type}: create a new endpoint for another type` }]);
  if (!e.destination) {
    const issues = targetIssues({ url: patch.url ?? e.url, target: patch.target, role_arn: patch.role_arn }, aws);
    if (issues.length) throw problems.invalid(issues);
    return undefined;
  }
  const next = {
    type: e.destination.type,
    target: patch.target ?? e.destination.target,
    role_arn: patch.role_arn ?? e.destination.roleArn,
  };
  const issues = targetIssues({ ...next, url: patch.url }, aws);
  if (issues.length) throw problems.invalid(issues);
  return { ...e.destination, target: next.target, roleArn: next.role_arn };
}

export interface DestinationFields {
  readonly type: EndpointType;
  readonly target?: string;
  readonly role_arn?: string;
  readonly external_id?: string;
  readonly trust_policy?: Record<string, unknown>;
  readonly permissions_policy?: Record<string, unknown> | undefined;
}

/** What the endpoint's view adds for an AWS destination; with `aws`, the policies a customer pastes. */
export function destinationView(d: Destination | undefined, aws: AwsDestinationRules | undefined): DestinationFields {
  if (!d) return { type: "http" };
  const fields = { type: d.type, target: d.target, role_arn: d.roleArn, external_id: d.externalId };
  if (!aws) return fields;
  const target = parseTarget(d.type, d.target, aws);
  return {
    ...fields,
    ...customerPolicies(aws.principalArn, d.externalId, typeof target === "string" ? undefined : target),
  };
}
