"""What a customer may see and do with their own organization's instance, usage and budget."""
