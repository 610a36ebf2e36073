-- Webhook endpoints, their events and deliveries go.
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
