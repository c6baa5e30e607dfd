/* The FMA units' peak on this CPU (16 independent 512-bit FMA chains): the ceiling the
   performance chapter compares the tiles with. gcc -O2 -mavx512f -mfma fma_peak.c && ./a.out */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
int main(){
  __m512d a[16]; for(int i=0;i<16;i++) a[i]=_mm512_set1_pd(i*0.001);
  __m512d x=_mm512_set1_pd(0.999999), y=_mm512_set1_pd(1e-9);
  struct timespec t0,t1; clock_gettime(CLOCK_MONOTONIC,&t0);
  long n=200000000;
  for(long k=0;k<n;k++){
    #pragma GCC unroll 16
    for(int i=0;i<16;i++) a[i]=_mm512_fmadd_pd(a[i],x,y);
  }
  clock_gettime(CLOCK_MONOTONIC,&t1);
  double s=(t1.tv_sec-t0.tv_sec)+1e-9*(t1.tv_nsec-t0.tv_nsec);
  double sum=0; for(int i=0;i<16;i++) sum+=_mm512_reduce_add_pd(a[i]);
  printf("%.2f GFMA/s (double) %g\n", n*16.0*8/s/1e9, sum);
}
