/** The Pulumi stack that holds one tenant's cloud resources (KMS key, GPU node group). */
export function tenantStackName(slug: string): string {
  return `tenant-${slug}`;
}
