@ Microbenchmark loops for the cycle model: each takes (iterations in r0, a buffer in r1) and
@ repeats one body; tests/firmware/test_cycles.py states each body's cycles from the Cortex-M4 manual.
    .syntax unified
    .thumb
    .text

    .macro loop name
    .global \name
    .type \name, %function
    .align 2
\name:
    push {r4, r5, r6, r7, lr}
    .endm

    .macro done
    pop {r4, r5, r6, r7, pc}
    .endm

    loop loads          @ three pipelined loads: 2 + 1 + 1
1:  ldr r2, [r1]
    ldr r3, [r1, #4]
    ldr r4, [r1, #8]
    subs r0, #1
    bne 1b
    done

    loop chase          @ each load's address is the previous load's result: 2 + 2 + 2
    mov r2, r1
1:  ldr r2, [r2]
    ldr r2, [r2]
    ldr r2, [r2]
    subs r0, #1
    bne 1b
    done

    loop doubles        @ LDRD pipelines with nothing: 3 + 3
1:  ldrd r2, r3, [r1]
    ldrd r4, r5, [r1, #8]
    subs r0, #1
    bne 1b
    done

    loop macs           @ two loads then two SMLADs: 2 + 1 + 1 + 1
1:  ldr r2, [r1]
    ldr r3, [r1, #4]
    smlad r4, r2, r3, r4
    smlad r5, r2, r3, r5
    subs r0, #1
    bne 1b
    done

    loop address        @ an address computed by the instruction before: 1 + (2 + 1 stall)
1:  add r2, r1, #4
    ldr r3, [r2]
    subs r0, #1
    bne 1b
    done

    loop stores         @ immediate-offset stores take 1, a register-offset one 2
    movs r6, #8
1:  str r2, [r1]
    str r3, [r1, #4]
    str r4, [r1, r6]
    subs r0, #1
    bne 1b
    done

    loop branchy        @ a forward branch taken on every other iteration
1:  tst r0, #1
    beq 2f
    adds r2, #1
2:  subs r0, #1
    bne 1b
    done

    loop calls          @ BL and BX LR: both taken branches, each 1 + P
1:  bl leaf
    subs r0, #1
    bne 1b
    done

    .type leaf, %function
leaf:
    bx lr
