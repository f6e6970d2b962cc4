variable "project_id" {
  description = "Google Cloud project that hosts the API, its configs and the gateway."
  type        = string
}

variable "region" {
  description = "Region of the gateway; API Gateway runs in a subset of regions, so it may differ from the functions' region."
  type        = string
}

variable "api_id" {
  description = "Identifier of the API resource, also the prefix of every generated config id."
  type        = string
  default     = "hyperscale"
}

variable "gateway_id" {
  description = "Identifier of the gateway."
  type        = string
  default     = "hyperscale"
}

variable "openapi_path" {
  description = "Path of the Swagger 2.0 template, normally \"$${path.root}/../../gateway/openapi.yaml\"."
  type        = string
}

variable "backends" {
  description = <<-EOT
    HTTPS base URL of each HTTP function's Cloud Run service, keyed by function name
    (for example { projects = "https://projects-abc-ew.a.run.app", stripe-webhook = "https://..." }).
    Dashes in a key become underscores, so the key stripe-webhook fills $${backend_stripe_webhook}.
    Every function the document names must be present, or rendering fails.
  EOT
  type        = map(string)

  validation {
    condition     = alltrue([for url in values(var.backends) : can(regex("^https://[^/]+$", url))])
    error_message = "Each backend must be an https:// origin with no path: the gateway appends the request path to it."
  }
}

variable "token_issuer" {
  description = "The iss claim the auth function puts in access tokens; the gateway rejects tokens from any other issuer."
  type        = string
}

variable "jwks_uri" {
  description = "URL of the auth function's JWKS document (/.well-known/jwks.json), which the gateway fetches to verify tokens."
  type        = string
}

variable "token_audience" {
  description = "The aud claim the gateway accepts in access tokens; several may be given, separated by commas."
  type        = string
}

variable "gateway_service_account" {
  description = "Email of the service account the gateway uses to call the functions; it needs roles/run.invoker on each."
  type        = string
}

variable "labels" {
  description = "Labels put on the API, its configs and the gateway."
  type        = map(string)
  default     = {}
}
