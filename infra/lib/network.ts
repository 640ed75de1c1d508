/** The platform's network: two AZs, a NAT gateway and a sender address in each, endpoints for the AWS services. */
import { RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type { Construct } from "constructs";

export interface Network {
  readonly vpc: ec2.Vpc;
  /** The addresses webhooks leave from (one per AZ), as tokens of their public IPs. */
  readonly egressIps: readonly string[];
}

/**
 * Made in `scope` itself, not in a construct of its own, so the resources keep the logical ids they had when the
 * stack made them (a deployed stack keeps its addresses).
 */
export function platformNetwork(scope: Construct): Network {
  // Two AZs, a NAT gateway in each: losing one AZ stops neither deliveries nor task starts in the other. Webhooks
  // leave from the NAT gateways' Elastic IPs, which receivers allow-list (the `EgressIps` output), so both are
  // allocated now, and kept for as long as the deployment exists (released only if their first deploy rolls back):
  // adding an AZ's NAT later would have changed every customer's allow-list.
  // ("EgressIp" is the id the first one had when there was one NAT gateway: a deployed stack keeps its address.)
  const eips = ["EgressIp", "EgressIp2"].map((id) => {
    const eip = new ec2.CfnEIP(scope, id, { domain: "vpc" });
    eip.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    return eip;
  });
  const vpc = new ec2.Vpc(scope, "Vpc", {
    maxAzs: 2,
    natGateways: 2,
    natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: eips.map((ip) => ip.attrAllocationId) }),
    // Free gateway endpoints: DynamoDB traffic (every delivery) and image layers from ECR (served by S3) skip
    // the NAT gateway's per-GB processing charge.
    gatewayEndpoints: {
      DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
    },
  });
  // SQS has no gateway endpoint; an interface endpoint in each AZ costs less than the NAT's per-GB charge on every
  // send, receive and delete from 100 events/s (README, Costs). Private DNS: the SDK's usual SQS name resolves to it.
  vpc.addInterfaceEndpoint("Sqs", { service: ec2.InterfaceVpcEndpointAwsService.SQS, privateDnsEnabled: true });
  return { vpc, egressIps: eips.map((ip) => ip.attrPublicIp) };
}
