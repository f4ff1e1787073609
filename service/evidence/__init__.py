"""Evidence: bundles of an earner's work (URLs, repositories, files, texts, testimonials), stored
content-addressed, fetched and inspected safely, and handed to assessors and credentials."""
