/** Jest global setup: checked later by the main developer; kept light. */
export default async function globalSetup(): Promise<void> {}
