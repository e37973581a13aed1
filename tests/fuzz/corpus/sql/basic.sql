SELECT x FROM t WHERE a = :tenant AND b > :lo AND c <= :hi -- :nope
