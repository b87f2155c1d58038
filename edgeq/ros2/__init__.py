"""ROS 2 (Jazzy, rclpy): a model as a node (:mod:`.node`) and as an ament_python package (:mod:`.package`).

rclpy and the message packages are the ``ros2`` extra; nothing here imports them
until a node starts or a package is checked.
"""
