output "gateway_url" {
  description = "HTTPS base URL of the gateway, where the frontend and Stripe send their requests."
  value       = "https://${google_api_gateway_gateway.this.default_hostname}"
}

output "default_hostname" {
  description = "Host name API Gateway assigned to the gateway."
  value       = google_api_gateway_gateway.this.default_hostname
}

output "managed_service" {
  description = "Service name of the API; enable it in the project to use API keys or quotas on it."
  value       = google_api_gateway_api.this.managed_service
}

output "api_config_id" {
  description = "Full resource name of the config the gateway serves."
  value       = google_api_gateway_api_config.this.id
}
