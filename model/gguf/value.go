package gguf

import (
	"fmt"
	"math"
)

// ValueType is the type tag of a GGUF metadata value.
type ValueType uint32

// The GGUF metadata value types (GGUF v3).
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

// String returns the short name of the value type, such as "u32".
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// size returns the encoded size of a fixed-size scalar type, or 0 for string
// and array.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// Value is one metadata value. Scalars hold the matching Go type (uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64); arrays hold an Array.
type Value struct {
	Type ValueType
	v    any
}

// Array is a GGUF array value. Elems is a slice of the element type's Go
// type ([]uint8, []int32, []string, []Array for nested arrays, ...).
type Array struct {
	ElemType ValueType
	Elems    any
}

// Len returns the number of elements in the array.
func (a Array) Len() int {
	switch e := a.Elems.(type) {
	case []uint8:
		return len(e)
	case []int8:
		return len(e)
	case []uint16:
		return len(e)
	case []int16:
		return len(e)
	case []uint32:
		return len(e)
	case []int32:
		return len(e)
	case []float32:
		return len(e)
	case []bool:
		return len(e)
	case []string:
		return len(e)
	case []uint64:
		return len(e)
	case []int64:
		return len(e)
	case []float64:
		return len(e)
	case []Array:
		return len(e)
	}
	return 0
}

// Any returns the value as its Go representation.
func (v Value) Any() any { return v.v }

// NewValue wraps a Go value as a metadata value. Supported: the scalar types
// listed on Value, Array, and slices of the scalar types (which become arrays).
func NewValue(x any) (Value, error) {
	switch t := x.(type) {
	case uint8:
		return Value{TypeUint8, t}, nil
	case int8:
		return Value{TypeInt8, t}, nil
	case uint16:
		return Value{TypeUint16, t}, nil
	case int16:
		return Value{TypeInt16, t}, nil
	case uint32:
		return Value{TypeUint32, t}, nil
	case int32:
		return Value{TypeInt32, t}, nil
	case float32:
		return Value{TypeFloat32, t}, nil
	case bool:
		return Value{TypeBool, t}, nil
	case string:
		return Value{TypeString, t}, nil
	case uint64:
		return Value{TypeUint64, t}, nil
	case int64:
		return Value{TypeInt64, t}, nil
	case float64:
		return Value{TypeFloat64, t}, nil
	case Array:
		if err := t.check(0); err != nil {
			return Value{}, err
		}
		return Value{TypeArray, t}, nil
	case []uint8:
		return Value{TypeArray, Array{TypeUint8, t}}, nil
	case []int8:
		return Value{TypeArray, Array{TypeInt8, t}}, nil
	case []uint16:
		return Value{TypeArray, Array{TypeUint16, t}}, nil
	case []int16:
		return Value{TypeArray, Array{TypeInt16, t}}, nil
	case []uint32:
		return Value{TypeArray, Array{TypeUint32, t}}, nil
	case []int32:
		return Value{TypeArray, Array{TypeInt32, t}}, nil
	case []float32:
		return Value{TypeArray, Array{TypeFloat32, t}}, nil
	case []bool:
		return Value{TypeArray, Array{TypeBool, t}}, nil
	case []string:
		return Value{TypeArray, Array{TypeString, t}}, nil
	case []uint64:
		return Value{TypeArray, Array{TypeUint64, t}}, nil
	case []int64:
		return Value{TypeArray, Array{TypeInt64, t}}, nil
	case []float64:
		return Value{TypeArray, Array{TypeFloat64, t}}, nil
	case []Array:
		a := Array{TypeArray, t}
		if err := a.check(0); err != nil {
			return Value{}, err
		}
		return Value{TypeArray, a}, nil
	}
	return Value{}, fmt.Errorf("gguf: cannot store a %T as metadata", x)
}

// check reports an error unless the array's elements are of its element
// type, recursively, and it nests no deeper than a reader accepts. Elems
// may be nil for an empty array of any type.
func (a Array) check(depth int) error {
	if depth >= maxArrayDepth {
		return fmt.Errorf("gguf: arrays nested deeper than %d", maxArrayDepth)
	}
	if a.Elems == nil {
		return nil
	}
	var et ValueType
	switch e := a.Elems.(type) {
	case []uint8:
		et = TypeUint8
	case []int8:
		et = TypeInt8
	case []uint16:
		et = TypeUint16
	case []int16:
		et = TypeInt16
	case []uint32:
		et = TypeUint32
	case []int32:
		et = TypeInt32
	case []float32:
		et = TypeFloat32
	case []bool:
		et = TypeBool
	case []string:
		et = TypeString
	case []uint64:
		et = TypeUint64
	case []int64:
		et = TypeInt64
	case []float64:
		et = TypeFloat64
	case []Array:
		et = TypeArray
		for _, inner := range e {
			if err := inner.check(depth + 1); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("gguf: array elements of Go type %T are not a GGUF type", a.Elems)
	}
	if et != a.ElemType {
		return fmt.Errorf("gguf: array of element type %v holds %T", a.ElemType, a.Elems)
	}
	return nil
}

// String returns the value if it is a string.
func (v Value) String() (string, bool) {
	s, ok := v.v.(string)
	return s, ok
}

// Bool returns the value if it is a bool.
func (v Value) Bool() (bool, bool) {
	b, ok := v.v.(bool)
	return b, ok
}

// Int returns any integer value as an int64. A uint64 above the int64 range
// is reported as not representable.
func (v Value) Int() (int64, bool) {
	switch t := v.v.(type) {
	case uint8:
		return int64(t), true
	case int8:
		return int64(t), true
	case uint16:
		return int64(t), true
	case int16:
		return int64(t), true
	case uint32:
		return int64(t), true
	case int32:
		return int64(t), true
	case uint64:
		if t > math.MaxInt64 {
			return 0, false
		}
		return int64(t), true
	case int64:
		return t, true
	}
	return 0, false
}

// Float returns a float or integer value as a float64.
func (v Value) Float() (float64, bool) {
	switch t := v.v.(type) {
	case float32:
		return float64(t), true
	case float64:
		return t, true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// Array returns the value if it is an array.
func (v Value) Array() (Array, bool) {
	a, ok := v.v.(Array)
	return a, ok
}

// Strings returns the value if it is an array of strings.
func (v Value) Strings() ([]string, bool) {
	a, ok := v.v.(Array)
	if !ok {
		return nil, false
	}
	s, ok := a.Elems.([]string)
	return s, ok
}

// Float32s returns an array of f32 values; arrays of other float or integer
// types are converted.
func (v Value) Float32s() ([]float32, bool) {
	a, ok := v.v.(Array)
	if !ok {
		return nil, false
	}
	if f, ok := a.Elems.([]float32); ok {
		return f, true
	}
	n := a.Len()
	out := make([]float32, n)
	for i := 0; i < n; i++ {
		f, ok := a.elem(i).Float()
		if !ok {
			return nil, false
		}
		out[i] = float32(f)
	}
	return out, true
}

// Ints returns an array of integer values of any integer element type as int64.
func (v Value) Ints() ([]int64, bool) {
	a, ok := v.v.(Array)
	if !ok {
		return nil, false
	}
	n := a.Len()
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		x, ok := a.elem(i).Int()
		if !ok {
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// elem returns element i of the array as a Value.
func (a Array) elem(i int) Value {
	switch e := a.Elems.(type) {
	case []uint8:
		return Value{TypeUint8, e[i]}
	case []int8:
		return Value{TypeInt8, e[i]}
	case []uint16:
		return Value{TypeUint16, e[i]}
	case []int16:
		return Value{TypeInt16, e[i]}
	case []uint32:
		return Value{TypeUint32, e[i]}
	case []int32:
		return Value{TypeInt32, e[i]}
	case []float32:
		return Value{TypeFloat32, e[i]}
	case []bool:
		return Value{TypeBool, e[i]}
	case []string:
		return Value{TypeString, e[i]}
	case []uint64:
		return Value{TypeUint64, e[i]}
	case []int64:
		return Value{TypeInt64, e[i]}
	case []float64:
		return Value{TypeFloat64, e[i]}
	case []Array:
		return Value{TypeArray, e[i]}
	}
	return Value{}
}

// Format renders the value for display, abbreviating long arrays.
func (v Value) Format() string {
	if a, ok := v.v.(Array); ok {
		n := a.Len()
		const show = 4
		s := fmt.Sprintf("[%v x %d]", a.ElemType, n)
		if n > 0 && a.ElemType != TypeArray {
			s += " ["
			for i := 0; i < n && i < show; i++ {
				if i > 0 {
					s += ", "
				}
				s += a.elem(i).Format()
			}
			if n > show {
				s += ", ..."
			}
			s += "]"
		}
		return s
	}
	if s, ok := v.v.(string); ok {
		if len(s) > 60 {
			s = s[:60] + "..."
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v.v)
}
