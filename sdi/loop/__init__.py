"""The loop back to the CRM (issue 13): export to Salesforce, outcomes in, webhooks with a durable outbox."""
