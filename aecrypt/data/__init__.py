"""Data: where the images come from and how they become arrays.

  specs       the one string that names a source (synthetic, nih:, folder:, medmnist:, dicom:)
  dataset     a source loaded as float32 arrays with labels and patient groups (cached)
  splits      stratified, seeded, patient-wise train / validation / test splits
  readers     what the layout readers share: their records, and decoding image files to arrays
  class_folders
              the image-folder layout: one folder per class, optionally under split folders
  nih_release the NIH ChestX-ray14 release: its label file and images*/ folders
  medmnist_npz
              MedMNIST's .npz arrays
  dicom_files DICOM files named by a labels.csv, and decoding one
  synthetic   procedural chest-radiograph phantoms
  embedded    the embedded NIH set (nih-cxr-2k-64), checked by its digest
  codecs      the standard image codecs (PNG, JPEG, WebP, JPEG XL...): images to bytes and back
  files       image files and folders named on a command line
  catalogue   the public sets `aecrypt fetch` knows, with their publishers' checksums
  fetch       `aecrypt fetch`: the public sets into the layout a spec reads (NIH's archives unpacked)
  download    resumable, checksum-verified HTTP downloads (the only network use)
  attribution the credit each real data set requires

A docstring only: a run's identity follows its imports through parent packages, so code here would enter
every run's id."""
