# API Gateway in front of the HTTP functions. The route table is opentofu/gateway/openapi.yaml,
# which the dev server reads as well; this module only fills in the addresses and token settings.

terraform {
  required_version = ">= 1.6"

  required_providers {
    # API Gateway resources exist only in the beta provider.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = ">= 5.0"
    }
  }
}

locals {
  openapi = templatefile(var.openapi_path, merge(
    { for name, url in var.backends : "backend_${replace(name, "-", "_")}" => url },
    {
      token_issuer   = var.token_issuer
      jwks_uri       = var.jwks_uri
      token_audience = var.token_audience
    },
  ))
}

resource "google_api_gateway_api" "this" {
  provider = google-beta

  project      = var.project_id
  api_id       = var.api_id
  display_name = var.api_id
  labels       = var.labels
}

resource "google_api_gateway_api_config" "this" {
  provider = google-beta

  project = var.project_id
  api     = google_api_gateway_api.this.api_id
  # Configs are immutable: every change to the document makes a new one, so it needs a fresh
  # generated id and must exist before the gateway switches to it and the old one is deleted.
  api_config_id_prefix = "${var.api_id}-"
  labels               = var.labels

  openapi_documents {
    document {
      path     = "openapi.yaml"
      contents = base64encode(local.openapi)
    }
  }

  gateway_config {
    backend_config {
      # The gateway calls the private Cloud Run services with an ID token of this account,
      # which therefore needs roles/run.invoker on each of them.
      google_service_account = var.gateway_service_account
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_api_gateway_gateway" "this" {
  provider = google-beta

  project      = var.project_id
  region       = var.region
  gateway_id   = var.gateway_id
  display_name = var.gateway_id
  api_config   = google_api_gateway_api_config.this.id
  labels       = var.labels
}
