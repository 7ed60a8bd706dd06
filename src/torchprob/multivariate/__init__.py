"""Multivariate distributions: normal, low-rank normal, Wishart, LKJ, Dirichlet, ..."""
