"""The reviewer's pages: the review queue (appeals included) and one assessment's evidence beside
its rubric, with the forms to approve, reject, override levels and decide an appeal."""
