# Reference values for the readerstats tests, computed by R and pROC.
#
# Generates synthetic reads with a fixed seed, writes them to
# tests/readerstats/resources/proc_reference_data.csv and prints
# "key,value" lines (pROC and R versions first) that the tests read from
# tests/readerstats/resources/proc_reference.csv. Run from the repository root:
#   Rscript scripts/proc_reference.R > tests/readerstats/resources/proc_reference.csv
# Needs R >= 4 and pROC (Debian: apt-get install r-cran-proc).

suppressMessages(library(pROC))
set.seed(20200519)

n <- 300
truth <- rbinom(n, 1, 0.45)
latent <- rnorm(n)
# Two correlated continuous raters, a coarse 5-point rater with many ties
# and a binary rater, all with higher = more likely positive.
score_a <- round(1.2 * truth + latent + rnorm(n, sd = 0.6), 6)
score_b <- round(0.8 * truth + latent + rnorm(n, sd = 0.9), 6)
rating <- as.integer(cut(score_b, breaks = c(-Inf, -0.5, 0.2, 0.8, 1.5, Inf)))
call <- as.integer(score_a > 0.7)
age <- round(rnorm(n, 45, 15))
male <- rbinom(n, 1, 0.5)
wbc <- round(rgamma(n, shape = 5, rate = 0.8 + 0.2 * truth), 2)
data <- data.frame(case = seq_len(n), truth, score_a, score_b, rating, call, age, male, wbc)
write.csv(data, "tests/readerstats/resources/proc_reference_data.csv", row.names = FALSE)

emit <- function(key, value) cat(key, ",", format(value, digits = 15), "\n", sep = "")
emit("pROC_version", as.character(packageVersion("pROC")))
emit("R_version", paste(R.version$major, R.version$minor, sep = "."))

for (column in c("score_a", "score_b", "rating", "call")) {
  r <- roc(data$truth, data[[column]], levels = c(0, 1), direction = "<", quiet = TRUE)
  ci <- ci.auc(r, method = "delong")
  emit(paste0(column, "_auc"), as.numeric(auc(r)))
  emit(paste0(column, "_var"), var(r, method = "delong"))
  emit(paste0(column, "_lower"), ci[1])
  emit(paste0(column, "_upper"), ci[3])
}

r_a <- roc(data$truth, data$score_a, levels = c(0, 1), direction = "<", quiet = TRUE)
r_b <- roc(data$truth, data$score_b, levels = c(0, 1), direction = "<", quiet = TRUE)
r_rating <- roc(data$truth, data$rating, levels = c(0, 1), direction = "<", quiet = TRUE)
for (pair in list(list("a_vs_b", r_a, r_b), list("a_vs_rating", r_a, r_rating))) {
  test <- roc.test(pair[[2]], pair[[3]], method = "delong", paired = TRUE)
  emit(paste0(pair[[1]], "_z"), as.numeric(test$statistic))
  emit(paste0(pair[[1]], "_p"), test$p.value)
  emit(paste0(pair[[1]], "_diff_lower"), test$conf.int[1])
  emit(paste0(pair[[1]], "_diff_upper"), test$conf.int[2])
}

best <- coords(r_a, x = "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"),
               transpose = FALSE)
emit("score_a_youden_threshold_midpoint", best$threshold[1])
emit("score_a_youden_sensitivity", best$sensitivity[1])
emit("score_a_youden_specificity", best$specificity[1])

# Exact binomial intervals and the exact McNemar test (binom.test on discordant pairs).
for (counts in list(c(0, 18), c(18, 18), c(113, 134), c(7, 41))) {
  ci <- binom.test(counts[1], counts[2])$conf.int
  emit(sprintf("binom_%d_of_%d_lower", counts[1], counts[2]), ci[1])
  emit(sprintf("binom_%d_of_%d_upper", counts[1], counts[2]), ci[2])
}
emit("mcnemar_exact_23_10_p", binom.test(10, 33)$p.value)
emit("mcnemar_exact_7_23_p", binom.test(7, 30)$p.value)

# Logistic regression Wald p-values (univariable and multivariable).
features <- c("age", "male", "wbc")
full <- glm(truth ~ age + male + wbc, family = binomial, data = data)
for (feature in features) {
  single <- glm(as.formula(paste("truth ~", feature)), family = binomial, data = data)
  emit(paste0(feature, "_p_univariable"), coef(summary(single))[feature, 4])
  emit(paste0(feature, "_p_multivariable"), coef(summary(full))[feature, 4])
}

# Hosmer-Lemeshow with 10 groups, the algorithm of ResourceSelection::hoslem.test
# (not packaged for Debian), written out in base R.
fitted_p <- fitted(full)
breaks <- unique(quantile(fitted_p, probs = seq(0, 1, 0.1)))
group <- cut(fitted_p, breaks = breaks, include.lowest = TRUE)
observed <- xtabs(cbind(1 - data$truth, data$truth) ~ group)
expected <- xtabs(cbind(1 - fitted_p, fitted_p) ~ group)
chisq <- sum((observed - expected)^2 / expected)
emit("hosmer_lemeshow_statistic", chisq)
emit("hosmer_lemeshow_p", 1 - pchisq(chisq, 10 - 2))
