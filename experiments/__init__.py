"""The experiments of the chapter "The multiprocessing module", one module per family.

Nothing is imported here, so that ``python -m experiments`` can set the BLAS/OpenMP
thread variables before numpy is loaded.
"""
