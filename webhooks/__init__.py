"""Webhook delivery: a site's segment changes and funnel completions POSTed to its receivers."""
