/**
 * What stands in front of the API on the internet-facing load balancer: the operator paths only from allowed
 * networks, invalid headers dropped, access logs kept, and optionally a WAF with a per-address rate limit.
 */
import { isIP } from "node:net";
import { Annotations, Duration, RemovalPolicy, Stack, Token } from "aws-cdk-lib";
import type * as ecsPatterns from "aws-cdk-lib/aws-ecs-patterns";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";

export interface LoadBalancerGuardProps {
  readonly service: ecsPatterns.ApplicationLoadBalancedFargateService;
  /**
   * Networks (CIDRs) that may reach the operator paths: `/admin`, `/console`, `/metrics`. Everyone else gets 403
   * from the load balancer itself.
   * @default [] (nobody: the operator paths are closed)
   */
  readonly adminCidrs?: readonly string[];
  /** An AWS WAF web ACL with a rate-based rule in front of the load balancer. @default false */
  readonly waf?: boolean;
  /** Requests per client address per 5 minutes before the WAF blocks it (only with `waf`). @default 20000 */
  readonly wafRateLimit?: number;
  /** How long access logs are kept. @default Duration.days(90) */
  readonly accessLogRetention?: Duration;
}

/**
 * The operator paths as ALB patterns, which are case-sensitive (the API routes case-sensitively to match: see
 * create-app.ts) and need the wildcard to catch `/metrics/` as well as `/admin/…`.
 */
export const operatorPaths = ["/admin*", "/console*", "/metrics*"];

export class LoadBalancerGuard extends Construct {
  readonly accessLogs: s3.Bucket;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: LoadBalancerGuardProps) {
    super(scope, id);
    const adminCidrs = props.adminCidrs ?? [];
    const bad = adminCidrs.filter((c) => !isCidr(c));
    if (bad.length > 0) throw new Error(`adminCidrs: not a CIDR: ${bad.join(", ")}`);
    if (props.wafRateLimit !== undefined && !props.waf) throw new Error("wafRateLimit needs waf");
    if (Token.isUnresolved(Stack.of(this).region)) {
      throw new Error(
        "the load balancer's access logs need the stack's region: configure an AWS region, or pass -c region=…",
      );
    }
    const { listener, loadBalancer, targetGroup } = props.service;

    // An ALB rule matches at most five values: three paths and two networks per rule.
    for (let i = 0; i < adminCidrs.length; i += 2) {
      new elbv2.ApplicationListenerRule(this, `Operators${i / 2}`, {
        listener,
        priority: 10 + i / 2,
        conditions: [
          elbv2.ListenerCondition.pathPatterns(operatorPaths),
          elbv2.ListenerCondition.sourceIps(adminCidrs.slice(i, i + 2)),
        ],
        action: elbv2.ListenerAction.forward([targetGroup]),
      });
    }
    new elbv2.ApplicationListenerRule(this, "OperatorsOnly", {
      listener,
      priority: 100,
      conditions: [elbv2.ListenerCondition.pathPatterns(operatorPaths)],
      action: elbv2.ListenerAction.fixedResponse(403, {
        contentType: "application/problem+json",
        messageBody: JSON.stringify({
          type: "https://webhooks.dev/problems/forbidden",
          title: "Forbidden",
          status: 403,
          detail: "This path is open to the operators' networks only.",
        }),
      }),
    });
    if (adminCidrs.length === 0) {
      Annotations.of(this).addInfo(
        "/admin, /console and /metrics answer 403 at the load balancer: open them to your networks with adminCidrs",
      );
    }

    // Headers that are not valid HTTP are dropped rather than passed on (request smuggling, header confusion).
    loadBalancer.setAttribute("routing.http.drop_invalid_header_fields.enabled", "true");

    // ALB access logs support SSE-S3 only. Kept like the tables: evidence outlives the stack.
    this.accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: props.accessLogRetention ?? Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    loadBalancer.logAccessLogs(this.accessLogs, "alb");

    if (props.waf) {
      const metric = (name: string) => ({
        cloudWatchMetricsEnabled: true,
        metricName: name,
        sampledRequestsEnabled: true,
      });
      this.webAcl = new wafv2.CfnWebACL(this, "WebAcl", {
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        visibilityConfig: metric("webhooks-api"),
        rules: [
          {
            name: "rate-per-address",
            priority: 0,
            action: { block: {} },
            statement: { rateBasedStatement: { limit: props.wafRateLimit ?? 20_000, aggregateKeyType: "IP" } },
            visibilityConfig: metric("webhooks-api-rate"),
          },
        ],
      });
      new wafv2.CfnWebACLAssociation(this, "WebAclAssociation", {
        resourceArn: loadBalancer.loadBalancerArn,
        webAclArn: this.webAcl.attrArn,
      });
    }
  }
}

function isCidr(text: string): boolean {
  const [address = "", bits, ...rest] = text.split("/");
  const family = isIP(address);
  const prefix = Number(bits);
  return family !== 0 && rest.length === 0 && /^\d+$/.test(bits ?? "") && prefix <= (family === 4 ? 32 : 128);
}
