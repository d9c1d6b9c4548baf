"""What the paper reports about its own results, as data: the combinations it names best, the ranking of its
ROC curves, its time per epoch, its class counts, and what each of its figures shows. The claim tests
(`aecrypt.stats.claims`) and the book's figure notes read these; nothing here is measured."""

from __future__ import annotations

# The paper's statements about its results (abstract, Sec. 4, Fig. 10 text, conclusion).
PAPER_BEST_AE = [("abstract", "msle", "adagrad", "relu", 2), ("Fig. 6 text", "msle", "adam", "relu", 3)]
PAPER_BEST_CLF = ("abstract", "mse", "rmsprop", "relu", 3)
PAPER_BEST_ROC = ("Fig. 10 text", "msle", "adagrad", "relu", 2)
#: The Fig. 10 text's order of the best ROC curves (its third is also called "five CNN").
PAPER_ROC_RANKING = ("MSLE+Adagrad+ReLU+2", "MSLE+Adam+ReLU+2", "MSLE+Adam+ReLU+3")
PAPER_EPOCH_SECONDS = (9.0, 16.0)
#: The proposed system's encoder (Sec. 3: "three layers (three convolutions and two max pooling)"): what the
#: compression claim is about.
PROPOSED_DEPTH = 3
PAPER_SAYS = {
    "Fig. 4": "A original, B encrypted image, C retrieved image (one example, no numbers).",
    "Fig. 5": "5800 negative and 3200 positive X-rays (9000 in all).",
    "Fig. 6": "MSLE + Adam + ReLU + 3 layers gives the lowest MSE and MAE (Fig. 6 text); the abstract names "
    "MSLE + Adagrad + ReLU + 2 as the best autoencoder.",
    "Fig. 7": "Loss falls from 10 to 25 to 50 epochs; 'the last five combinations from the right' have little loss.",
    "Fig. 8": "Recall, precision, F1 and AUC per combination; the abstract names MSE + RMSprop + ReLU + 3 as the "
    "best classification result.",
    "Fig. 9": "Train and test accuracy per combination (no values stated in the text).",
    "best-combination panel": "For the best autoencoder combination: loss falls over epochs in training and "
    "validation; MSE and MAE fall with epochs; classification metrics, confusion matrix and classifier iterations "
    "are shown.",
    "Fig. 10": "MSLE + Adagrad + ReLU + 2 has the best ROC curve, followed by MSLE + Adam + ReLU + 2 and "
    "MSLE + Adam + ReLU + 3 (the text also calls the last one 'five CNN').",
}


PAPER_COUNTS = {"negative": 5800, "positive": 3200}
