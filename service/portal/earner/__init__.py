"""The earner's pages: home (credentials, visibility), applying for an achievement, assessments."""
