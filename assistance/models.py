"""Models of the social-assistance bureau."""
