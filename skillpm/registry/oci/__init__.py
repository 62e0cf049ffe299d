"""OCI registries (ghcr.io, Docker Hub, Harbor, ECR, a CNCF distribution registry) as a registry backend."""
